import { AvroCodec } from './avro-codec';
import { MESSAGE_NAMES, MessageInputTypes, MessageName, MessageTypes } from './generated/types';
import { TOPIC_MESSAGE, TopicMessage, TopicName, isTopicName } from './topics';

/** The codec type of message `N`. */
export type CodecFor<N extends MessageName> = AvroCodec<MessageTypes[N], MessageInputTypes[N]>;

const cache = new Map<MessageName, CodecFor<MessageName>>();

/**
 * The codec of message `name`, created on first use from `schemas/<name>.avsc` plus every
 * released version of it, then shared (codecs are stateless apart from a scratch buffer).
 */
export function codecFor<N extends MessageName>(name: N): CodecFor<N> {
  let codec = cache.get(name);
  if (codec === undefined) {
    codec = AvroCodec.fromSchemasDir<MessageTypes[MessageName], MessageInputTypes[MessageName]>(name);
    cache.set(name, codec);
  }
  return codec as unknown as CodecFor<N>;
}

/** Ready codecs by message name, e.g. `Codecs.ClickEvent.encode(event)`; each loads lazily. */
export const Codecs = {} as { readonly [N in MessageName]: CodecFor<N> };
for (const name of MESSAGE_NAMES) {
  Object.defineProperty(Codecs, name, { enumerable: true, get: () => codecFor(name) });
}

/** The codec of the message a topic carries; throws for a topic that is not ours. */
export function codecForTopic<T extends TopicName>(topic: T): CodecFor<TopicMessage[T]>;
export function codecForTopic(topic: string): CodecFor<MessageName>;
export function codecForTopic(topic: string): CodecFor<MessageName> {
  if (!isTopicName(topic)) {
    throw new Error(`no message contract for topic ${JSON.stringify(topic)}`);
  }
  return codecFor(TOPIC_MESSAGE[topic]);
}
