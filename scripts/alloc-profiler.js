// Sampling allocation profiler for a node process, garbage included (V8 sampling heap profiler with
// includeObjectsCollectedByMinorGC/MajorGC; node --heap-prof keeps only live objects). Preload it:
//   PORTRAIT_CHILD_NODE_ARGS="--require $PWD/scripts/alloc-profiler.js" npm run bench:aggregate
// Each process writes /tmp/alloc-<pid>.heapprofile at exit (Chrome DevTools: Memory > Load profile).
'use strict';
const inspector = require('node:inspector');
const fs = require('node:fs');
const s = new inspector.Session();
s.connect();
s.post('HeapProfiler.enable');
s.post('HeapProfiler.startSampling', { samplingInterval: 65536, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
process.on('exit', () => {
  s.post('HeapProfiler.stopSampling', (err, r) => {
    if (!err) fs.writeFileSync(`/tmp/alloc-${process.pid}.heapprofile`, JSON.stringify(r.profile));
  });
});
