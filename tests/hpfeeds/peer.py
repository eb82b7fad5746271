#!/usr/bin/env python3
"""An independent hpfeeds peer, written from the protocol description only
(standard library only), to cross-check zflow's codec, client and broker.

    peer.py broker PORTFILE [CERT KEY]
                                   run a broker on 127.0.0.1, port 0; writes
                                   the port to PORTFILE and serves until its
                                   stdin closes. With CERT and KEY (PEM) it
                                   speaks TLS.
                                   Users: alice/sa (pub+sub chan1, chan2),
                                   bob/sb (sub chan1, chan2).
    peer.py client PORT            run client checks against a broker that has
                                   the same users; exit status 0 when all pass.

Wire format: every message is a 4-byte big-endian length (including the
5-byte header), a 1-byte opcode (0 error, 1 info, 2 auth, 3 publish,
4 subscribe, 5 unsubscribe), then the body. Names are prefixed by one length
byte. auth carries SHA-1 over the broker's nonce followed by the secret.
"""
import hashlib
import os
import socket
import ssl
import struct
import sys
import threading

ERROR, INFO, AUTH, PUBLISH, SUBSCRIBE, UNSUBSCRIBE = range(6)
USERS = {
    'alice': ('sa', {'chan1', 'chan2'}, {'chan1', 'chan2'}),
    'bob': ('sb', set(), {'chan1', 'chan2'}),
}
LIMITS = {ERROR: 5 + 2 ** 20, INFO: 281, AUTH: 281, PUBLISH: 5 + 2 ** 20,
          SUBSCRIBE: 2 ** 20, UNSUBSCRIBE: 2 ** 20}


def name(b):
    return bytes([len(b)]) + b


def message(opcode, body):
    return struct.pack('>IB', len(body) + 5, opcode) + body


def split_name(body):
    n = body[0]
    if len(body) < 1 + n:
        raise ValueError('name runs past the message')
    return body[1:1 + n], body[1 + n:]


class Conn:
    """Blocking reader of whole messages from a socket."""

    def __init__(self, sock):
        self.sock = sock
        self.pending = b''

    def read(self):
        while True:
            if len(self.pending) >= 5:
                length, opcode = struct.unpack('>IB', self.pending[:5])
                if length < 5 or opcode not in LIMITS or length > LIMITS[opcode]:
                    raise ValueError('bad header: length %d opcode %d' % (length, opcode))
                if len(self.pending) >= length:
                    body = self.pending[5:length]
                    self.pending = self.pending[length:]
                    return opcode, body
            data = self.sock.recv(65536)
            if not data:
                return None, None
            self.pending += data

    def send(self, data):
        self.sock.sendall(data)


# ---------------------------------------------------------------- broker

class Broker:
    def __init__(self, tls=None):
        self.lock = threading.Lock()
        self.subscribers = {}        # channel -> set of Conn
        self.tls = tls

    def serve(self, sock):
        if self.tls:
            try:
                sock = self.tls.wrap_socket(sock, server_side=True)
            except (ssl.SSLError, OSError):
                sock.close()         # the client refused our certificate
                return
        conn = Conn(sock)
        conn.wlock = threading.Lock()
        nonce = os.urandom(4)
        conn.send(message(INFO, name(b'pybroker') + nonce))
        subscribed = set()
        try:
            self.session(conn, nonce, subscribed)
        except (ValueError, OSError) as e:
            self.refuse(conn, str(e))
        finally:
            with self.lock:
                for channel in subscribed:
                    self.subscribers.get(channel, set()).discard(conn)
            sock.close()

    def refuse(self, conn, text):
        try:
            with conn.wlock:
                conn.send(message(ERROR, text.encode()))
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def session(self, conn, nonce, subscribed):
        opcode, body = conn.read()
        if opcode is None:
            return
        if opcode != AUTH:
            return self.refuse(conn, 'First message was not AUTH')
        ident, digest = split_name(body)
        ident = ident.decode('utf-8', 'replace')
        user = USERS.get(ident)
        if not user or hashlib.sha1(nonce + user[0].encode()).digest() != digest:
            return self.refuse(conn, 'Authentication failed for %s' % ident)
        while True:
            opcode, body = conn.read()
            if opcode is None:
                return
            who, rest = split_name(body)
            if opcode == PUBLISH:
                channel, payload = split_name(rest)
                if who.decode() != ident:
                    return self.refuse(conn, 'Invalid authkey in message, ident=%s' % who.decode())
                if channel.decode() not in user[1]:
                    return self.refuse(conn, 'Authkey not allowed to pub here. ident=%s, chan=%s'
                                       % (ident, channel.decode()))
                out = message(PUBLISH, name(who) + name(channel) + payload)
                with self.lock:
                    targets = list(self.subscribers.get(channel.decode(), ()))
                for target in targets:
                    try:
                        with target.wlock:
                            target.send(out)
                    except OSError:
                        pass
            elif opcode in (SUBSCRIBE, UNSUBSCRIBE):
                channel = rest.decode()
                if opcode == SUBSCRIBE and channel not in user[2]:
                    return self.refuse(conn, 'Authkey not allowed to sub here. ident=%s, chan=%s'
                                       % (ident, channel))
                with self.lock:
                    peers = self.subscribers.setdefault(channel, set())
                    if opcode == SUBSCRIBE:
                        peers.add(conn)
                        subscribed.add(channel)
                    else:
                        peers.discard(conn)
                        subscribed.discard(channel)
            else:
                return self.refuse(conn, 'unexpected opcode %d' % opcode)


def run_broker(port_file, cert=None, key=None):
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(16)
    with open(port_file + '.tmp', 'w') as f:
        f.write('%d\n' % listener.getsockname()[1])
    os.rename(port_file + '.tmp', port_file)
    tls = None
    if cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(cert, key)
    broker = Broker(tls)

    def accept():
        while True:
            sock, _ = listener.accept()
            threading.Thread(target=broker.serve, args=(sock,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    sys.stdin.read()           # until the test closes our stdin
    return 0


# ---------------------------------------------------------------- client

def connect(port, ident, secret):
    sock = socket.create_connection(('127.0.0.1', port), timeout=5)
    conn = Conn(sock)
    opcode, body = conn.read()
    assert opcode == INFO, 'expected info, got %r' % opcode
    broker_name, nonce = split_name(body)
    assert len(nonce) == 4, 'nonce of %d bytes' % len(nonce)
    digest = hashlib.sha1(nonce + secret.encode()).digest()
    conn.send(message(AUTH, name(ident.encode()) + digest))
    conn.ident = ident.encode()
    return conn


def expect_error(conn, text):
    opcode, body = conn.read()
    assert opcode == ERROR, 'expected an error, got %r' % opcode
    assert body.decode() == text, 'error text %r, expected %r' % (body.decode(), text)
    opcode, _ = conn.read()
    assert opcode is None, 'connection not closed after the error'


def run_client(port):
    bob = connect(port, 'bob', 'sb')
    bob.send(message(SUBSCRIBE, name(b'bob') + b'chan1'))
    alice = connect(port, 'alice', 'sa')
    alice.send(message(SUBSCRIBE, name(b'alice') + b'chan2'))
    import time
    time.sleep(0.2)
    payloads = [b'payload %d ' % i + bytes(range(256)) * (i % 5) for i in range(500)]
    alice.send(b''.join(message(PUBLISH, name(b'alice') + name(b'chan1') + p) for p in payloads))
    alice.send(message(PUBLISH, name(b'alice') + name(b'chan2') + b'self'))
    for p in payloads:
        opcode, body = bob.read()
        assert opcode == PUBLISH, opcode
        who, rest = split_name(body)
        channel, payload = split_name(rest)
        assert (who, channel, payload) == (b'alice', b'chan1', p), (who, channel, payload[:20])
    opcode, body = alice.read()
    assert opcode == PUBLISH and body.endswith(b'self')
    # the broker's refusals, byte for byte
    expect_error(connect(port, 'bob', 'wrong'), 'Authentication failed for bob')
    eve = connect(port, 'bob', 'sb')
    eve.send(message(PUBLISH, name(b'bob') + name(b'chan1') + b'x'))
    expect_error(eve, 'Authkey not allowed to pub here. ident=bob, chan=chan1')
    eve = connect(port, 'alice', 'sa')
    eve.send(message(PUBLISH, name(b'bob') + name(b'chan1') + b'x'))
    expect_error(eve, 'Invalid authkey in message, ident=bob')
    eve = connect(port, 'bob', 'sb')
    eve.send(message(SUBSCRIBE, name(b'bob') + b'secret'))
    expect_error(eve, 'Authkey not allowed to sub here. ident=bob, chan=secret')
    sock = socket.create_connection(('127.0.0.1', port), timeout=5)
    raw = Conn(sock)
    raw.read()
    raw.send(message(SUBSCRIBE, name(b'bob') + b'chan1'))
    expect_error(raw, 'First message was not AUTH')
    print('peer.py client: all checks passed')
    return 0


if __name__ == '__main__':
    if len(sys.argv) >= 3 and sys.argv[1] == 'broker':
        sys.exit(run_broker(*sys.argv[2:5]))
    if len(sys.argv) >= 3 and sys.argv[1] == 'client':
        sys.exit(run_client(int(sys.argv[2])))
    print(__doc__)
    sys.exit(2)
