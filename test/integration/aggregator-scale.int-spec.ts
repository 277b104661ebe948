import { Topics } from '@app/contracts';
import type { ServiceProcess } from '@app/testing';
import { AggregatorHarness, expectedFeatures, generateStream } from './aggregator-harness';

/** Events the process has handled, from its /metrics. */
async function handled(p: ServiceProcess): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${p.port}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(/^portrait_aggregator_events_total\{[^}]*outcome="(?:applied|duplicate|too_late)"[^}]*\} (\d+)/gm)) n += Number(m[1]);
  return n;
}

/**
 * Two aggregator processes in one consumer group split the partitions; the second joins while
 * events flow (a rebalance mid-stream). The final features must equal a single in-order run.
 */
describe('feature aggregator: scale-out', () => {
  const h = new AggregatorHarness('aggscale');
  const events = generateStream(h.ns.id, 100, 30, 11);
  const expected = expectedFeatures(events);

  afterAll(() => h.close());

  it('two processes in one group produce the same features as one, across a rebalance', async () => {
    const env = { AGGREGATOR_WRITER_MAX_DELAY_MS: '30' };
    const a = await h.startAggregator(env);
    const features = await h.reader(Topics.UserFeatures);
    const third = Math.floor(events.length / 3);
    await h.produce(events.slice(0, third), 100);
    // Start the second member, then produce the rest at a steady pace (bursts of 40 every 300 ms)
    // so the group rebalances while events flow; full speed once the new member is consuming.
    const b = await h.startAggregator(env);
    let i = third;
    for (; i < events.length && (await handled(b)) === 0; i += 40) {
      await h.produce(events.slice(i, i + 40), 40);
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(i).toBeLessThan(events.length); // the rebalance happened mid-stream
    await h.produce(events.slice(i), 200);
    await h.waitForFeatures(features, expected);
    const [na, nb] = await Promise.all([handled(a), handled(b)]);
    expect({ a: na > 0, b: nb > 0, logs: na > 0 && nb > 0 ? '' : `${a.logTail(20)}\n---\n${b.logTail(20)}` }).toEqual({ a: true, b: true, logs: '' });
  });
});
