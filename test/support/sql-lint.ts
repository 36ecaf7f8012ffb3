/**
 * The SQL lint: what sql/ and every statement rendered for Athena must avoid. SQL is written for
 * Athena (Trino) and run locally on DuckDB: only the common subset is allowed. Each rule names
 * the trap it prevents (docs/contributing.md, "SQL on two engines").
 */
export const FORBIDDEN: readonly [RegExp, string][] = [
  [/::/, 'DuckDB cast shorthand; use cast(x as type)'],
  [/\bselect\s+\*\s+(exclude|replace)\b|\*\s+exclude\s*\(/i, 'DuckDB star modifiers'],
  [/\bdate_diff\s*\(\s*'(month|year|quarter|week)'/i, 'date_diff by month counts boundaries in DuckDB and whole units in Trino: use period indexes'],
  [
    /\b(date_add|date_format|date_parse|strftime|strptime|from_iso8601_timestamp|to_unixtime|day_of_week|last_day_of_month|last_day|epoch)\s*\(/i,
    'function missing from one of the engines',
  ],
  [
    /\b(approx_percentile|approx_quantile|median|quantile_cont|quantile_disc|list_\w+|struct_pack|array_length|cardinality|generate_series|range|ifnull|nvl|datediff|string_agg|group_concat|regexp_matches)\s*\(/i,
    'function missing from one of the engines',
  ],
  [/\b(qualify|ilike|pivot|unpivot|positional\s+join|asof\s+join|anti\s+join|semi\s+join)\b/i, 'DuckDB-only syntax'],
  [/\bgroup\s+by\s+all\b|\border\s+by\s+all\b/i, 'DuckDB-only GROUP/ORDER BY ALL'],
  [/\b(now|today|current_date|current_timestamp|localtimestamp)\b/i, 'results must depend on as_of, never on the wall clock'],
  [/\[[^\]]*\]|\{[^{}]*\}/, 'list or struct literal (DuckDB-only)'],
  [/->>|(?<![-])->(?!>)/, 'lambda or JSON arrow (DuckDB-only)'],
  [/(^\s*|\(\s*)from\b/i, 'FROM-first query (DuckDB-only)'],
  [/"[^"]*"/, 'double quotes are identifiers in Trino; use single-quoted strings and plain names'],
  [/\bunion\s+(?!all\b)/i, 'plain UNION dedupes silently: say union all or use distinct'],
  // Measured: over no rows at all DuckDB's count_if is null where Trino's is 0.
  [/\bcount_if\s*\(/i, 'count_if of an empty input is null in DuckDB and 0 in Trino: use count(case when ... then 1 end)'],
];

export const STYLE: readonly [RegExp, string][] = [
  [/\b(SELECT|FROM|WHERE|JOIN|GROUP BY|ORDER BY|WITH|AS|AND|OR|CASE|WHEN|THEN|ELSE|END)\b/, 'keywords are lowercase'],
  [/\bas\s+[a-z]\s*[,(\n]|\b(from|join)\s+\w+\s+[a-z]\s*(\n|on\b)/, 'no one-letter aliases'],
];

/**
 * SQL without comments, {{placeholders}} and the content of string literals (single words such
 * as 'month' are kept: the date_diff rule needs them), for pattern checks.
 */
export function codeOf(text: string): string {
  return text
    .replace(/--[^\n]*/g, '')
    .replace(/\{\{[^}]*\}\}/g, 'param')
    .replace(/'(?:[^']|'')*'/g, (literal) => (/^'\w*'$/.test(literal) ? literal : "'s'"));
}

/** The lint's findings on one statement: empty when it keeps to the shared subset. */
export function lintProblems(sql: string): string[] {
  const code = codeOf(sql);
  return [...FORBIDDEN, ...STYLE].flatMap(([pattern, reason]) => {
    const match = pattern.exec(code);
    return match ? [`${reason} (found ${JSON.stringify(match[0])})`] : [];
  });
}
