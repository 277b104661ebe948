export * from './types';
export { splitCsvLine } from './csv';
export { canonicalParser, canonicalTs } from './canonical';
export { JDATA_ACTION_TYPES, JDATA_UTC_OFFSET_MS, jdataActionParser, jdataTime } from './jdata';
export { TAOBAO_BEHAVIORS, taobaoParser } from './taobao';
export * from './dataset-reader';
