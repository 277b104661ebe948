export * from './kafka-bus';
export * from './batch-consumer';
export * from './message-producer';
export * from './types';
export * from './kafka.module';
