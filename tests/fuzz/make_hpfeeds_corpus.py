#!/usr/bin/env python3
"""Writes the seed corpus for fuzz_hpfeeds_parse (first byte: piece size - 1,
then an hpfeeds byte stream). Run once; the files are committed."""
import hashlib
import os
import struct
import sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), 'hpfeeds_corpus')
os.makedirs(out, exist_ok=True)


def frame(op, body):
    return struct.pack('!IB', 5 + len(body), op) + body


def s8(b):
    return bytes([len(b)]) + b


seeds = {
    'info': frame(1, s8(b'hpfeeds') + b'\x01\x02\x03\x04'),
    'auth': frame(2, s8(b'bob') + hashlib.sha1(b'\x01\x02\x03\x04secret').digest()),
    'publish': frame(3, s8(b'bob') + s8(b'chan1') + b'{"hashes": ["x"]}'),
    'subscribe': frame(4, s8(b'bob') + b'chan1'),
    'unsubscribe': frame(5, s8(b'bob') + b'chan1'),
    'error': frame(0, b'Authentication failed for bob'),
    'stream': b''.join(frame(3, s8(b'a') + s8(b'c%d' % i) + b'x' * i) for i in range(20)),
    'short_len': struct.pack('!IB', 3, 3) + b'abc',
    'zero_len': struct.pack('!IB', 0, 0),
    'huge_len': struct.pack('!IB', 0xFFFFFFFF, 3),
    'publish_over': struct.pack('!IB', 5 + 1024 * 1024 + 1, 3),
    'info_over': struct.pack('!IB', 5 + 256 + 21, 1),
    'bad_opcode': struct.pack('!IB', 10, 9) + b'abcde',
    'str_overrun': frame(3, b'\xff' + b'abc'),
    'chan_overrun': frame(3, s8(b'a') + b'\xfe' + b'x'),
    'empty_body': frame(3, b''),
    'sub_long_chan': frame(4, s8(b'a') + b'c' * 300),
    'truncated': frame(3, s8(b'bob') + s8(b'chan') + b'payload')[:-3],
}
for name, data in seeds.items():
    for step in (0, 6, 255):
        with open(os.path.join(out, '%s_%d' % (name, step)), 'wb') as f:
            f.write(bytes([step]) + data)
print('wrote %d files to %s' % (3 * len(seeds), out))
