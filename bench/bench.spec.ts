import type { ModelMetrics } from '@app/contracts';
import { peerTable } from './bench';

const head = (name: string, n: number, f1: number) => ({
  head: name,
  kind: 'softmax',
  n,
  accuracy: 0.5,
  macro_f1: f1,
  log_loss: 1,
  auc: null,
  majority_accuracy: 0.4,
  majority_macro_f1: 0.2,
  per_class_recall: {},
});

describe('bench: peer table', () => {
  const river = {
    targets: {
      gender: { logistic_regression: { n: 100, accuracy: 0.6, macro_f1: 0.55, window_macro_f1: 0.5, samples_per_s: 1000, majority_accuracy: 0.5 } },
    },
  };
  const ours: ModelMetrics = { model_version: 'v1', emitted_at: 1, samples_seen: 100, window_size: 50, drift: false, heads: [head('gender', 50, 0.6), head('purchase_24h', 40, 0.3)] };

  it('puts our trainer, the majority baseline and River side by side per target', () => {
    const rows = peerTable(river, ours);
    expect(rows.filter((r) => r.target === 'gender').map((r) => r.learner)).toEqual(['portrait trainer (window)', 'majority baseline', 'river logistic_regression']);
    expect(rows.find((r) => r.learner === 'majority baseline')).toMatchObject({ accuracy: 0.4, macro_f1: 0.2 });
  });

  it("keeps our heads that River had no labels for, and works without our metrics", () => {
    expect(peerTable(river, ours).some((r) => r.target === 'purchase_24h' && r.learner === 'portrait trainer (window)')).toBe(true);
    expect(peerTable(river, null).map((r) => r.learner)).toEqual(['river logistic_regression']);
    expect(peerTable(null, null)).toEqual([]);
  });
});
