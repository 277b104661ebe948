// First: kafkajs' Encoder must be swapped before any kafkajs module loads it (see the file).
export * from './kafkajs-encoder-patch';
export * from './kafka-bus';
export * from './batch-consumer';
export * from './message-producer';
export * from './types';
export * from './kafka.module';
