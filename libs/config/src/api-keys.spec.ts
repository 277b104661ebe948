import { ApiKeys } from './api-keys';

describe(ApiKeys.name, () => {
  it('is open without keys', () => {
    expect(new ApiKeys([]).allows(undefined)).toBe(true);
  });
  it('accepts only configured keys', () => {
    const sut = new ApiKeys(['k1', 'secret-2']);
    expect(sut.allows('k1')).toBe(true);
    expect(sut.allows('secret-2')).toBe(true);
    expect(sut.allows('k2')).toBe(false);
    expect(sut.allows(undefined)).toBe(false);
    expect(sut.allows(['k1'])).toBe(false);
  });
});
