// Public entry of the message-contracts library: import from '@app/contracts' only.
export * from './generated/types';
export * from './topics';
export * from './rabin';
export * from './contract-errors';
export {
  AvroCodec,
  canonicalForm,
  parseSchema,
  peekFingerprint,
  SINGLE_OBJECT_HEADER_LENGTH,
  SINGLE_OBJECT_MAGIC_0,
  SINGLE_OBJECT_MAGIC_1,
} from './avro-codec';
export type { DecodeResult, WriterSchemaInfo } from './avro-codec';
export * from './codecs';
export * from './dead-letter';
export * from './feature-names';
export * from './fixtures';
export { SCHEMAS_DIR_ENV, schemasDir, listMessageSchemas, listReleasedSchemas } from './schema-files';
export type { ReleasedSchemaFile } from './schema-files';
