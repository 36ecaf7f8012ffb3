/**
 * Whether a text names a customer id: the id as a whole token, so that erasing "C1" does not
 * touch the records of "C10" or "XC1". A token ends where a character could not continue an
 * id (letters, digits and the usual joiners of ids and e-mail addresses: _ - . @ +). Ids inside
 * JSON text may be escaped (a quote, a backslash): every spelling is looked for.
 */
const ID_CHARACTER = /[\p{L}\p{N}_\-.@+]/u;

function isBoundary(text: string, index: number): boolean {
  return index < 0 || index >= text.length || !ID_CHARACTER.test(text[index]!);
}

function containsToken(text: string, token: string): boolean {
  if (token === '') return false;
  for (let at = text.indexOf(token); at >= 0; at = text.indexOf(token, at + 1)) {
    if (isBoundary(text, at - 1) && isBoundary(text, at + token.length)) return true;
  }
  return false;
}

const escapedInJson = (text: string) => JSON.stringify(text).slice(1, -1);

/**
 * The spellings an id may take in stored text: as is, escaped as inside a JSON string, and
 * escaped twice (a refused record's payload is JSON text inside a JSON line).
 */
function spellingsOf(id: string): string[] {
  return [...new Set([id, escapedInJson(id), escapedInJson(escapedInJson(id))])];
}

/** The ids a text names, from a set of ids to look for (each with its spellings). */
export class IdMatcher {
  private readonly spellings: readonly string[];

  constructor(readonly ids: ReadonlySet<string>) {
    this.spellings = [...ids].flatMap(spellingsOf);
  }

  /** True when the text names any of the ids. */
  mentionsAny(text: string): boolean {
    for (const spelling of this.spellings) if (containsToken(text, spelling)) return true;
    return false;
  }
}

/** The fields of an event that name a customer: its own, and a referrer. */
export const CUSTOMER_FIELDS = ['customer_id', 'referred_by'] as const;

/** True when a parsed record (an event, a log line) names one of the ids in a customer field. */
export function namesCustomer(value: unknown, ids: ReadonlySet<string>): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return CUSTOMER_FIELDS.some((field) => {
    const named = (value as Record<string, unknown>)[field];
    return (typeof named === 'string' || typeof named === 'number') && ids.has(String(named));
  });
}

/** The JSON value of a text, or undefined when it is not JSON. */
export function parsedOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Whether a record's text names one of the ids: by its customer fields when it is a JSON
 * object (a number like 42 elsewhere in it is not a customer), else, for text that cannot be
 * read as one (a CSV line, broken JSON), by the id as a whole token anywhere in it.
 */
export function recordNames(text: string, ids: ReadonlySet<string>, matcher: IdMatcher): boolean {
  const value = parsedOrUndefined(text);
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return namesCustomer(value, ids);
  return matcher.mentionsAny(text);
}
