// Kubernetes names and label values from arbitrary text: the one sanitizer the session names
// (pod names, gc-session/gc-agent labels) and the event labels (gc/type, gc/actor) share. What
// differs between them is upstream's choice, kept for compatibility: which characters pass, what
// replaces the others ('-' or '_'), and lower-casing for names.

/** The longest DNS label and label value. */
export const MAX_K8S_NAME = 63;

export interface SanitizeRule {
  /** one character that may stay */
  readonly allowed: RegExp;
  /** what each other character (code point) becomes */
  readonly replacement: string;
  /** the value may only start and end with these (others are trimmed) */
  readonly edge: RegExp;
  readonly lowerCase?: boolean;
}

/** DNS-1123 labels (pod names): lower case, digits and '-'. */
export const DNS_LABEL: SanitizeRule = { allowed: /^[a-z0-9-]$/, replacement: '-', edge: /[a-z0-9]/, lowerCase: true };

/** Label values: letters, digits, '.', '_' and '-', alphanumeric at both ends; `replacement` for the rest. */
export const labelValueRule = (replacement: string): SanitizeRule => ({ allowed: /^[A-Za-z0-9._-]$/u, replacement, edge: /[A-Za-z0-9]/ });

/** `value` with every character outside the rule replaced, the edges trimmed, cut to `max`. */
export function sanitize(value: string, rule: SanitizeRule, max = MAX_K8S_NAME): string {
  let out = '';
  for (const ch of rule.lowerCase === true ? value.toLowerCase() : value) out += rule.allowed.test(ch) ? ch : rule.replacement;
  let start = 0;
  while (start < out.length && !rule.edge.test(out.charAt(start))) start++;
  out = out.slice(start, start + max);
  let end = out.length;
  while (end > 0 && !rule.edge.test(out.charAt(end - 1))) end--;
  return out.slice(0, end);
}
