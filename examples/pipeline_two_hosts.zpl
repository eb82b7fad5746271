#   Stage in another process (or machine) over tcp:// with CURVE: this file
#   reads the WebSocket feed's trades and pushes them to a collector that
#   binds tcp port 7000 as CURVE server (its own file has a pull source with
#   bind = tcp://0.0.0.0:7000 and server_cert = collector.cert).
#
#   zflow keygen collector.cert     (on the collector: prints the public key to
#                                    put in server_key below; keep collector.cert_secret)
#   zflow check examples/pipeline_two_hosts.zpl

feed
    type = ws_sub
    url = wss://stream.example.org/ws
    send = '{"op": "subscribe", "args": ["trades"]}'
    filter = '[{"type": "trade"}]'

to_collector
    type = push
    input = feed
    connect = tcp://collector.example.org:7000
    #   the collector's public key (Z85), or the path of its public zcert file
    server_key = "<A3lu:q2J?K=T7ct8.Jyn1<pqBC4a4Qp5nLinY<2"
