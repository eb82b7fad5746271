#   The hpfeeds seed's aiostream example as a zflow run file: the events of
#   two brokers merged, only those with hashes kept, re-encoded, published
#   to a third broker's "hashes" channel and printed as JSON lines.
#
#   zflow check examples/pipeline_hpfeeds_bridge.zpl
#   zflow run examples/pipeline_hpfeeds_bridge.zpl --metrics 127.0.0.1:9100

zflow
    mode = lossless
    hwm = 1000

broker1
    type = hpfeeds_sub
    host = 127.0.0.1
    port = 10000
    ident = bridge
    secret = bridge-secret
    channels = dionaea.capture, cowrie.sessions

broker2
    type = hpfeeds_sub
    host = 127.0.0.1
    port = 10001
    ident = bridge
    secret = bridge-secret
    channels = dionaea.capture

hashes
    type = nonempty
    input = broker1, broker2
    field = hashes

reencode
    type = encode
    input = hashes
    encoding = json

out
    type = hpfeeds_pub
    input = reencode
    host = 127.0.0.1
    port = 10002
    ident = bridge
    secret = bridge-secret
    channel = hashes

stdout
    type = file
    input = reencode
