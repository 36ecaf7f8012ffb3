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
export function spellingsOf(id: string): string[] {
  return [...new Set([id, escapedInJson(id), escapedInJson(escapedInJson(id))])];
}

/** The ids a text names, from a set of ids to look for (each with its spellings). */
export class IdMatcher {
  private readonly spellings: readonly (readonly [string, string])[];

  constructor(readonly ids: ReadonlySet<string>) {
    this.spellings = [...ids].flatMap((id) => spellingsOf(id).map((spelling) => [id, spelling] as const));
  }

  /** True when the text names any of the ids. */
  mentionsAny(text: string): boolean {
    for (const [, spelling] of this.spellings) if (containsToken(text, spelling)) return true;
    return false;
  }
}
