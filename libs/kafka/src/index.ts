// First: kafkajs' producer internals must be swapped before any kafkajs module loads them (see the file).
export * from './kafkajs-patches';
export * from './kafka-bus';
export * from './batch-consumer';
export * from './message-producer';
export * from './types';
export * from './partitioner';
export * from './kafka.module';
