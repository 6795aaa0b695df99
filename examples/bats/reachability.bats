# testbed's bats helpers on the bundled two-node lab. Run: sudo bats examples/bats/reachability.bats
bats_load_library testbed

setup_file() { testbed_up "$BATS_TEST_DIRNAME/../../topologies/kubenet-two-nodes.json"; }
teardown_file() { testbed_teardown; }

@test "pods reach each other across nodes" { assert_reachable pod-a pod-c; assert_reachable pod-d pod-b ping; }
@test "nodes serve nothing on the pods' port" { refute_reachable pod-a node2 tcp:8000; }
@test "pod-c answers itself and sees pod-a's own address" { assert_answered_by pod-a pod-c pod-c; assert_client_ip pod-a pod-c; }
