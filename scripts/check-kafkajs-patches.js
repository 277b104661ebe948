#!/usr/bin/env node
// Proves the kafkajs patches (libs/kafka/src/kafkajs-patches.ts) change nothing: encodes the same
// produce requests, each also framed for the wire with one of several client ids (v3, the encoder
// of v3-v7, with null/string/Buffer keys and values, headers with
// repeated values, string and number timestamps, several topics and partitions, transactional and
// idempotent producers, records from 0 bytes to 40 KB, and inputs left to kafkajs' own encoder)
// with kafkajs as shipped and with the patches and
// compares the bytes, and groups the same messages per partition with both groupings.
// Exit 0 = identical; prints the patch state.
// Run by libs/kafka/src/kafkajs-patches.spec.ts in a plain node process (jest's module
// registry cannot swap a module's export). Needs the build (dist/).
'use strict';
const path = require('node:path');

const root = path.join(__dirname, '..');
const patchFile = path.join(root, 'dist', 'libs', 'kafka', 'src', 'kafkajs-patches.js');
const grouping = 'kafkajs/src/producer/groupMessagesPerPartition';
const produceV3 = 'kafkajs/src/protocol/requests/produce/v3/request';

function clearKafkajs() {
  for (const k of Object.keys(require.cache)) if (k.includes(`${path.sep}kafkajs${path.sep}`) || k === patchFile) delete require.cache[k];
}

function topicData(seed) {
  let x = seed;
  const rand = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const bytes = (n) => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
  return [
    {
      topic: 'p.user.features.v1',
      partitions: [0, 1, 2].map((partition) => ({
        partition,
        firstSequence: 0,
        messages: Array.from({ length: 1 + Math.floor(rand() * 300) }, (_, i) => {
          const size = [0, 7, 300, 511, 512, 513, 2000, i % 50 === 0 ? 40_000 : 4000][Math.floor(rand() * 8)];
          return {
            // null, plain and multi-byte string keys, Buffer keys.
            key: i % 5 === 0 ? null : i % 11 === 0 ? `usér-ü-${i}-✓` : i % 13 === 0 ? bytes(9) : `user-${Math.floor(rand() * 1e6)}`,
            value: i % 17 === 0 ? null : i % 19 === 0 ? `text value ✓ ${i}` : bytes(size),
            // Deltas within and beyond ±2^30 ms (both varlong paths), none (Date.now()), numbers.
            timestamp: i % 3 === 0 ? undefined : i % 10 === 1 ? 1_700_000_000_000 + i : String(1_700_000_000_000 + Math.floor(rand() * (i % 2 ? 1e9 : 5e9))),
            headers:
              i % 4 === 0
                ? { 'x-a': 'b', 'x-bin': bytes(20), ...(i % 8 === 0 ? { 'x-many': ['1', 'zwei ✓', bytes(3)], 'x-ü': '' } : {}) }
                : i % 9 === 0
                  ? {}
                  : undefined,
          };
        }),
      })),
    },
    { topic: 'p.other.topic', partitions: [{ partition: 5, firstSequence: 7, messages: [{ key: 'k', value: bytes(3) }] }] },
  ];
}

/** Request arguments beyond the defaults: transactional, idempotent (producer id/epoch), acks 1. */
function requestArgs(seed) {
  const Long = require('kafkajs/src/utils/long');
  const base = { acks: -1, timeout: 30000, topicData: topicData(seed) };
  if (seed % 4 === 1) return { ...base, transactionalId: `txn-${seed}`, producerId: Long.fromValue(4242 + seed), producerEpoch: 3 };
  if (seed % 4 === 2) return { ...base, acks: 1, producerId: Long.fromValue(17), producerEpoch: 1 };
  // Inputs the fast encoder leaves to kafkajs: gzip, a timestamp delta beyond 2^52.
  if (seed === 3) return { ...base, compression: 1 };
  if (seed === 7) return { ...base, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [{ key: 'a', value: 'x', timestamp: '1' }, { key: 'b', value: 'y', timestamp: String(2 ** 53) }] }] }] };
  return base;
}

function groupAll() {
  const group = require(grouping);
  const murmur = require('kafkajs/src/producer/partitioners/default/murmur2');
  const partitionMetadata = [0, 1, 2, 3, 4, 5].map((partitionId) => ({ partitionId, leader: 1 }));
  const partitioner = ({ message }) => (message.partition ?? (murmur(message.key) & 0x7fffffff) % 6);
  const out = [];
  for (let seed = 1; seed <= 20; seed++) {
    const messages = topicData(seed)[0].partitions.flatMap((p) => p.messages).map((m, i) => (i % 7 === 0 ? { ...m, partition: i % 6 } : m));
    out.push(JSON.stringify(group({ topic: 't', partitionMetadata, messages, partitioner })));
  }
  return out;
}

async function encodeAll(state) {
  const request = require(produceV3);
  const createRequest = require('kafkajs/src/protocol/request');
  const clientIds = ['portrait-feature-aggregator', null, 'clïent-✓', ''];
  const out = [];
  for (let seed = 1; seed <= 20; seed++) {
    const r = request(requestArgs(seed));
    out.push((await r.encode()).buffer);
    // The same request framed for the wire (size, header, client id), as the connection sends it.
    out.push((await createRequest({ correlationId: seed * 7919, clientId: clientIds[seed % 4], request: r })).buffer);
  }
  return { state, out, groups: groupAll() };
}

(async () => {
  // Records without a timestamp get Date.now(): freeze it so both encodings see the same time.
  Date.now = () => 1_750_000_000_000;
  clearKafkajs();
  process.env.PORTRAIT_KAFKAJS_PATCHES = '0';
  const original = await encodeAll(require(patchFile).kafkajsPatches);
  clearKafkajs();
  delete process.env.PORTRAIT_KAFKAJS_PATCHES;
  const patched = await encodeAll(require(patchFile).kafkajsPatches);
  if (original.state !== 'disabled' || patched.state !== 'patched') {
    console.error(`unexpected patch states: original ${original.state}, patched ${patched.state}`);
    process.exit(1);
  }
  let bytes = 0;
  for (let i = 0; i < original.out.length; i++) {
    if (!original.out[i].equals(patched.out[i])) {
      console.error(`produce request ${i + 1} differs (${original.out[i].length} vs ${patched.out[i].length} bytes)`);
      process.exit(1);
    }
    bytes += original.out[i].length;
  }
  for (let i = 0; i < original.groups.length; i++) {
    if (original.groups[i] !== patched.groups[i]) {
      console.error(`grouping ${i + 1} differs`);
      process.exit(1);
    }
  }
  console.log(`kafkajs patches: ${patched.state}; ${original.out.length / 2} produce requests, each also framed, ${bytes} bytes, ${original.groups.length} groupings, identical`);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
