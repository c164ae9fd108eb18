'use strict';
// bee-queue peer: node beequeue.js enqueue N | enqueue_bulk N | fill N | produce M RATE | worker MODE C
// Library defaults (storeJobs, events on, jobs kept after success).
const Queue = require('bee-queue');
const { redisOptions, now, payload, paced, Probe, out } = require('./common');

const NAME = 'bench';

async function main() {
  const [cmd, a, b] = process.argv.slice(2);
  const redis = redisOptions(process.env.BENCH_URL);
  if (cmd === 'worker') {
    const c = Number(b);
    const probe = new Probe();
    const queue = new Queue(NAME, { redis, isWorker: true });
    await queue.ready();
    await probe.ready();
    queue.process(c, async (job) => { probe.hit(job.data.t); });
    return;
  }
  const queue = new Queue(NAME, { redis, isWorker: false, getEvents: false });
  await queue.ready();
  const n = Number(a);
  if (cmd === 'enqueue') {
    const t0 = now();
    for (let i = 0; i < n; i++) await queue.createJob(payload(i)).save();
    out({ seconds: now() - t0 });
  } else if (cmd === 'enqueue_bulk' || cmd === 'fill') {
    const t0 = now();
    const jobs = [];
    for (let i = 0; i < n; i++) jobs.push(queue.createJob(payload(i)));
    await queue.saveAll(jobs);
    out({ seconds: now() - t0 });
  } else if (cmd === 'produce') {
    await paced(n, Number(b), (i) => queue.createJob(payload(i)).save());
    out({ ok: true });
  } else {
    throw new Error(`unknown command ${cmd}`);
  }
  await queue.close();
}

main().then(() => { if (process.argv[2] !== 'worker') process.exit(0); }, (err) => { console.error(err); process.exit(1); });
