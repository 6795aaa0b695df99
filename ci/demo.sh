#!/usr/bin/env bash
# The main job on a bundled example lab: install, build, build the images,
# and validate the article's two-node lab (topologies/kubenet-two-nodes.json,
# or the file given). Bringing the lab up (`testbed up`) is the next
# milestone; until it lands this stops after validation and says so.
set -euo pipefail
cd "$(dirname "$0")/.."
lab=${1:-topologies/kubenet-two-nodes.json}
if [ "$(id -u)" != 0 ]; then
	echo "ci/demo.sh: run as root (sudo ./ci/demo.sh): it installs packages and builds root filesystems" >&2
	exit 2
fi
./ci/deps.sh
make -j"$(nproc)"
make images
echo "+ bin/testbed validate $lab"
bin/testbed validate "$lab"
echo
echo "The lab is valid. Bringing it up (testbed up/down/exec) is not implemented yet:"
echo "it is the next milestone of testbed; this command will then run the lab for real."
