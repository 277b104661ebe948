/** Why bytes could not be decoded; each maps to a dead-letter `reason_code`. */
export type DecodeReasonCode = 'not_single_object' | 'unknown_fingerprint' | 'corrupt_avro';

/** Bytes that are not a decodable single-object Avro message of the expected contract. */
export class ContractDecodeError extends Error {
  override readonly name = 'ContractDecodeError';

  constructor(
    readonly reasonCode: DecodeReasonCode,
    message: string,
    /** Message name the codec expected, e.g. `ClickEvent`. */
    readonly messageName: string,
    /** For `unknown_fingerprint`: the fingerprint found, 16 hex digits. */
    readonly fingerprint?: string,
  ) {
    super(message);
  }
}

/** One field of a value that does not match its schema. */
export interface FieldProblem {
  /** Dotted path from the message root, e.g. `features.views_1h` or `heads.0.classes.2`. */
  path: string;
  /** Avro type expected there, e.g. `["null","string"]`. */
  expected: string;
  /** Short description of the value found (`undefined`, `string "abc"`, ...). */
  actual: string;
}

/** A value that cannot be encoded because it does not match the message schema. */
export class ContractEncodeError extends Error {
  override readonly name = 'ContractEncodeError';
  /** Path of the first offending field (what a dead letter's `field` should carry). */
  readonly field: string;

  constructor(
    readonly messageName: string,
    readonly problems: FieldProblem[],
  ) {
    const shown = problems
      .slice(0, 5)
      .map((p) => `${p.path || '<root>'}: expected ${p.expected}, got ${p.actual}`)
      .join('; ');
    const more = problems.length > 5 ? ` (and ${problems.length - 5} more)` : '';
    super(`invalid ${messageName}: ${shown}${more}`);
    this.field = problems[0]?.path ?? '';
  }
}
