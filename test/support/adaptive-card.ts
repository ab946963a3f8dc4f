import { createRequire } from 'node:module';
import type * as AdaptiveCards from 'adaptivecards';

const AC = createRequire(__filename)('adaptivecards/dist/adaptivecards.js') as typeof AdaptiveCards;

/**
 * Validates an Adaptive Card with Microsoft's Adaptive Cards library (its parser and property validation, which
 * follow the card schema): the problems it reports, empty when the card is valid. The UMD build is loaded: the
 * package's ESM build does not resolve under Node.
 */
export function validateAdaptiveCard(card: unknown): string[] {
  const problems: string[] = [];
  if (typeof card !== 'object' || card === null) {
    return ['not an object'];
  }
  const c = card as Record<string, unknown>;
  if (c.type !== 'AdaptiveCard') {
    problems.push('type must be AdaptiveCard');
  }
  if (
    typeof c.version !== 'string' ||
    AC.Version.parse(c.version, new AC.SerializationContext()) === undefined
  ) {
    problems.push('version is required');
  }
  const context = new AC.SerializationContext();
  const parsed = new AC.AdaptiveCard();
  parsed.parse(card, context);
  for (let i = 0; i < context.eventCount; i++) {
    problems.push(context.getEventAt(i).message);
  }
  for (const e of parsed.validateProperties().validationEvents) {
    problems.push(e.message);
  }
  return problems;
}
