'use strict';
// Shared helpers for the Node peers: connection options, high-resolution epoch time, and the
// probe protocol used by the Python harness (bench/probe.py does the same on the Python side).
const IORedis = require('ioredis');

const RESULT_KEY = 'bench:result';
const READY_KEY = 'bench:ready';

function redisOptions(url) {
  const u = new URL(url || process.env.BENCH_URL || 'redis://127.0.0.1:6379/0');
  const o = { host: u.hostname || '127.0.0.1', port: Number(u.port || 6379), db: Number((u.pathname || '/0').slice(1) || 0) };
  if (u.password) o.password = decodeURIComponent(u.password);
  if (u.username) o.username = decodeURIComponent(u.username);
  return o;
}

// Seconds since the epoch with sub-millisecond resolution (Date.now() has 1 ms).
function now() {
  return (performance.timeOrigin + performance.now()) / 1000;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function payload(i) {
  return { i, t: now() };
}

async function paced(m, rate, send) {
  const start = performance.now();
  for (let i = 0; i < m; i++) {
    const due = start + (i * 1000) / rate;
    const delay = due - performance.now();
    if (delay > 1) await sleep(delay - 0.5);
    while (performance.now() < due) { /* spin the last half millisecond */ }
    await send(i);
  }
}

class Probe {
  constructor() {
    this.n = Number(process.env.BENCH_N);
    this.mode = process.env.BENCH_MODE || 'drain';
    this.count = 0;
    this.lat = [];
    this.start = null;
    this.done = false;
    this.client = new IORedis(redisOptions(process.env.BENCH_URL));
  }

  async ready() {
    this.start = now();
    await this.client.set(READY_KEY, String(this.start));
  }

  hit(t) {
    const n = now();
    this.count += 1;
    if (this.mode === 'latency' && t !== undefined) this.lat.push(n - Number(t));
    if (this.count === this.n && !this.done) {
      this.done = true;
      this.client.set(RESULT_KEY, JSON.stringify({ start: this.start, end: n, count: this.count, lat: this.lat }));
    }
  }
}

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

module.exports = { redisOptions, now, sleep, payload, paced, Probe, out };
