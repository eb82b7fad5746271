#  The hub: hierarchical keys with wildcards, publishers, subscribers,
#  listeners and subscriber notices on an inproc XPUB/XSUB pair.
target_sources (zflow_objects PRIVATE
    src/zflow_hub.c
    src/zflow_hub_trie.c
    src/zflow_hub_notice.c
    src/zflow_hub_publisher.c
    src/zflow_hub_subscriber.c
    src/zflow_hub_subscriber_actor.c)

zflow_test (test_hub_trie SOURCES tests/test_hub_trie.c LABELS unit TIMEOUT 30)
zflow_test (test_hub SOURCES tests/test_hub.c LABELS integration TIMEOUT 60)
