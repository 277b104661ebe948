import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findSchemasDir, listReleasedSchemas, schemasDir, SCHEMAS_DIR_ENV } from './schema-files';

describe(findSchemasDir.name, () => {
  let root: string;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'portrait-schemas-'));
  });

  afterEach(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('finds the repository schemas from compiled code under dist/', () => {
    fs.mkdirSync(path.join(root, 'schemas'));
    fs.writeFileSync(path.join(root, 'package.json'), '{}');
    const compiled = path.join(root, 'dist', 'libs', 'contracts', 'src');
    fs.mkdirSync(compiled, { recursive: true });
    expect(findSchemasDir(compiled)).toBe(path.join(root, 'schemas'));
  });

  it('skips a schemas/ folder that is not beside a package.json', () => {
    fs.mkdirSync(path.join(root, 'a', 'schemas'), { recursive: true });
    fs.mkdirSync(path.join(root, 'schemas'));
    fs.writeFileSync(path.join(root, 'package.json'), '{}');
    expect(findSchemasDir(path.join(root, 'a'))).toBe(path.join(root, 'schemas'));
  });
});

describe(schemasDir.name, () => {
  const saved = process.env[SCHEMAS_DIR_ENV];

  afterEach(() => {
    if (saved === undefined) delete process.env[SCHEMAS_DIR_ENV];
    else process.env[SCHEMAS_DIR_ENV] = saved;
  });

  it('finds the repository schemas from source', () => {
    delete process.env[SCHEMAS_DIR_ENV];
    expect(fs.existsSync(path.join(schemasDir(), 'ClickEvent.avsc'))).toBe(true);
  });

  it(`honours ${SCHEMAS_DIR_ENV}, and names it when it is wrong`, () => {
    process.env[SCHEMAS_DIR_ENV] = os.tmpdir();
    expect(schemasDir()).toBe(path.resolve(os.tmpdir()));
    process.env[SCHEMAS_DIR_ENV] = path.join(os.tmpdir(), 'no-such-dir-portrait');
    expect(() => schemasDir()).toThrow(new RegExp(`${SCHEMAS_DIR_ENV}=.*not a directory`));
  });
});

describe(listReleasedSchemas.name, () => {
  it('lists released versions oldest first with their labels', () => {
    const releases = listReleasedSchemas('ClickEvent');
    expect(releases[0]).toMatchObject({ name: 'ClickEvent', version: 1, label: 'v1' });
  });
});
