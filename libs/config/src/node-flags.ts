/**
 * Node flags every service runs with (package.json start:*, the Dockerfile's NODE_FLAGS, the demo,
 * the tests' and benchmarks' ServiceProcess):
 *  - A 64 MB young-generation semi-space (default 16 MB): the services allocate a short-lived
 *    object or buffer per message, and with the default the scavenger ran often enough to take
 *    ~19 % of the aggregator's CPU (cpu profile of bench:aggregate).
 *  - No allocation-site pretenuring. The publisher keeps the last profile of every user, so
 *    while it first meets its users nearly every profile survives, and V8 then allocates
 *    profiles straight into the old generation. Once users repeat, those profiles die young but
 *    sit in old space until the next full GC, and their pointers into the young generation keep
 *    young garbage alive: scavenges took 50-70 ms each and copied half the young generation
 *    (--trace-gc of bench:publish). Without pretenuring they take 1-2 ms, and bench:publish
 *    computes ~20 % more profiles/s (docs/benchmarks.md).
 */
export const SERVICE_NODE_FLAGS = ['--max-semi-space-size=64', '--no-allocation-site-pretenuring'];
