# Rootfs images: rebuilt only when their recipe changes. Included by the
# top-level Makefile; paths are relative to the repository root.
IMAGE_RECIPE := images/build-image.sh images/extract-hook.sh

images: images/pod.tar.zst images/node.tar.zst

images/pod.tar.zst: $(IMAGE_RECIPE) images/pod/testbed-http.py images/pod/server-start.c
	images/build-image.sh pod $@

images/node.tar.zst: $(IMAGE_RECIPE)
	images/build-image.sh node $@

clean-images:
	rm -f images/pod.tar.zst images/node.tar.zst

.PHONY: images clean-images
