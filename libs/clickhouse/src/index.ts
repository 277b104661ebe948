export * from './sql';
export * from './clickhouse-store';
export * from './buffered-writer';
export * from './row-binary';
export * from './migrations';
export * from './clickhouse.module';
export * from './insert-thread';
