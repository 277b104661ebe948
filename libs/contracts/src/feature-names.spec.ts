import * as path from 'node:path';
import { CORE_FEATURE_NAMES } from './feature-names';
import { readSchemaFile, schemasDir } from './schema-files';

interface FieldJson {
  name: string;
  type: unknown;
  default?: unknown;
}

function featuresFields(file: string): FieldJson[] {
  const schema = readSchemaFile(path.join(schemasDir(), file)) as { fields: FieldJson[] };
  const field = schema.fields.find((f) => f.name === 'features');
  return (field?.type as { fields: FieldJson[] }).fields;
}

describe('CORE_FEATURE_NAMES', () => {
  it('are the 21 features of CONTRACTS.md, without duplicates', () => {
    expect(CORE_FEATURE_NAMES).toHaveLength(21);
    expect(new Set(CORE_FEATURE_NAMES).size).toBe(21);
  });

  it.each([['UserFeatures.avsc'], ['ProfileUpdated.avsc']])(
    'lead the Features record of %s, in order and required',
    (file) => {
      const fields = featuresFields(file);
      expect(fields.slice(0, CORE_FEATURE_NAMES.length).map((f) => f.name)).toEqual([...CORE_FEATURE_NAMES]);
      for (const f of fields.slice(0, CORE_FEATURE_NAMES.length)) expect(f.default).toBeUndefined();
    },
  );

  it('leave every other feature with a default, so Features can evolve', () => {
    const extras = featuresFields('UserFeatures.avsc').slice(CORE_FEATURE_NAMES.length);
    expect(extras.length).toBeGreaterThan(0);
    expect(extras.filter((f) => f.default === undefined).map((f) => f.name)).toEqual([]);
  });
});
