'use strict';
// BullMQ peer: node bullmq.js enqueue N | enqueue_bulk N | fill N | produce M RATE | worker MODE C
// Library defaults (completed jobs kept); the connection is ioredis on BENCH_URL.
const { Queue, Worker } = require('bullmq');
const { redisOptions, now, payload, paced, Probe, out } = require('./common');

const NAME = 'bench';

async function main() {
  const [cmd, a, b] = process.argv.slice(2);
  const connection = redisOptions(process.env.BENCH_URL);
  if (cmd === 'worker') {
    const c = Number(b);
    const probe = new Probe();
    const worker = new Worker(NAME, async (job) => { probe.hit(job.data.t); }, { connection, concurrency: c, autorun: false });
    await worker.waitUntilReady();
    await probe.ready();
    await worker.run();
    return;
  }
  const queue = new Queue(NAME, { connection });
  await queue.waitUntilReady();
  const n = Number(a);
  if (cmd === 'enqueue') {
    const t0 = now();
    for (let i = 0; i < n; i++) await queue.add('noop', payload(i));
    out({ seconds: now() - t0 });
  } else if (cmd === 'enqueue_bulk' || cmd === 'fill') {
    const t0 = now();
    const jobs = [];
    for (let i = 0; i < n; i++) jobs.push({ name: 'noop', data: payload(i) });
    await queue.addBulk(jobs);
    out({ seconds: now() - t0 });
  } else if (cmd === 'produce') {
    await paced(n, Number(b), (i) => queue.add('noop', payload(i)));
    out({ ok: true });
  } else {
    throw new Error(`unknown command ${cmd}`);
  }
  await queue.close();
}

main().then(() => { if (process.argv[2] !== 'worker') process.exit(0); }, (err) => { console.error(err); process.exit(1); });
