import { parseLabelLines, JDATA_USER_LABELS, toUserAttributes } from './labels';
import type { ImportIssue } from './importers';

describe('labels', () => {
  it('reads a generic labels CSV: empty and unknown tokens are null', () => {
    const issues: ImportIssue[] = [];
    const rows = parseLabelLines(['user_id,age,gender', 'u1,26-35,female', 'u2,,male', 'u3,-1,"x, y"', 'bad'], 'l.csv', {
      unknownValues: ['-1'],
      onIssue: (i) => issues.push(i),
    });
    expect(rows).toEqual([
      { user_id: 'u1', attributes: { age: '26-35', gender: 'female' } },
      { user_id: 'u2', attributes: { age: null, gender: 'male' } },
      { user_id: 'u3', attributes: { age: null, gender: 'x, y' } },
    ]);
    expect(issues).toEqual([{ file: 'l.csv', line: 5, reason: expect.stringContaining('cells') }]);
  });

  it('turns JData_User.csv into age/sex/user_lv_cd with -1 and sex 2 unknown', () => {
    const rows = parseLabelLines(
      ['\ufeffuser_id,age,sex,user_lv_cd,user_reg_tm', '200001,56岁以上,2,5,2016-01-26', '200002.0,-1,0,1,2016-01-26'],
      'JData_User.csv',
      JDATA_USER_LABELS,
    );
    expect(rows).toEqual([
      { user_id: '200001', attributes: { age: '56岁以上', sex: null, user_lv_cd: '5' } },
      { user_id: '200002', attributes: { age: null, sex: '0', user_lv_cd: '1' } },
    ]);
    expect(toUserAttributes(rows, { source: 'labels:JData_User.csv', observedAt: 1, labelSet: 'jdata' })[0]).toEqual({
      user_id: '200001',
      attributes: { age: '56岁以上', sex: null, user_lv_cd: '5' },
      source: 'labels:JData_User.csv',
      observed_at: 1,
      label_set: 'jdata',
    });
  });

  it('fails clearly on a header without user_id', () => {
    expect(() => parseLabelLines(['id,age'], 'x.csv')).toThrow(/must start with user_id/);
  });
});
