// Node ws client for bench/zflow_bench_ws.c: counts N messages from url,
// optionally JSON.parse-ing each, and prints "<messages> <seconds>".
// Usage: node bench_client.js <url> <n> [parse]
'use strict';
const path = require('path');
const WebSocket = require(path.join(__dirname, 'node_modules', 'ws'));

const [url, nText, mode] = process.argv.slice(2);
const n = parseInt(nText, 10);
const parse = mode === 'parse';
let count = 0;
let sink = 0;
const start = process.hrtime.bigint();
const ws = new WebSocket(url, { perMessageDeflate: false });
ws.on('open', () => ws.send('go'));
ws.on('message', (data) => {
  if (parse)
    sink += JSON.parse(data).k;
  if (++count === n) {
    const secs = Number(process.hrtime.bigint() - start) / 1e9;
    console.log(`${count} ${secs.toFixed(4)} ${sink}`);
    ws.close(1000);
    process.exit(0);
  }
});
ws.on('error', (e) => { console.error(`bench_client: ${e.message}`); process.exit(1); });
ws.on('close', () => { if (count < n) { console.error(`bench_client: closed after ${count}`); process.exit(1); } });
