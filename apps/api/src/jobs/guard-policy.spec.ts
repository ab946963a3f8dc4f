import { CLAIM_FACTS } from '@app/persistence';
import { CLAIM_WORDING } from './guard-policy';

describe('the wording of the claim’s refusals', () => {
  const placeholders = (template: string) => [...template.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]);

  it.each(Object.entries(CLAIM_WORDING))(
    '%s names only facts the claim knows (a typo would fail every claim)',
    (_key, template) => {
      for (const name of placeholders(template)) {
        expect(CLAIM_FACTS).toContain(name);
      }
    },
  );

  it('says how long a cool-down or a full window lasts, and whose hold it is', () => {
    expect(placeholders(CLAIM_WORDING.cooldown)).toEqual(['cooldownSeconds', 'secondsLeft']);
    expect(placeholders(CLAIM_WORDING.limit)).toEqual(['limit', 'windowSeconds']);
    for (const hold of [CLAIM_WORDING.hold, CLAIM_WORDING.holdUntilReleased]) {
      expect(placeholders(hold)).toEqual(
        expect.arrayContaining(['holdReason', 'holdPlacedBy', 'holdPlacedAt']),
      );
    }
    expect(placeholders(CLAIM_WORDING.hold)).toContain('holdUntil');
  });
});
