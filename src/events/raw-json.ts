// Raw JSON member access. Go keeps Event.Payload as json.RawMessage, so numbers like
// 12345678901234567890 or 1.50 survive a round trip byte for byte. JSON.parse would round the
// first and rewrite the second, so the payload is carried as its original (compacted) text.
// Both functions assume the text already passed JSON.parse: they only find boundaries.

/** Top-level members of a JSON object text, each as the raw text of its value (last one wins). */
export function rawMembers(objectText: string): Map<string, string> {
  const members = new Map<string, string>();
  let i = skipWs(objectText, 0);
  if (objectText[i] !== '{') return members;
  i = skipWs(objectText, i + 1);
  while (i < objectText.length && objectText[i] !== '}') {
    const keyEnd = skipString(objectText, i);
    const key = JSON.parse(objectText.slice(i, keyEnd)) as string;
    i = skipWs(objectText, skipWs(objectText, keyEnd) + 1); // past ':'
    const valueEnd = skipValue(objectText, i);
    members.set(key, objectText.slice(i, valueEnd));
    i = skipWs(objectText, valueEnd);
    if (objectText[i] === ',') i = skipWs(objectText, i + 1);
  }
  return members;
}

/** Removes insignificant whitespace, leaving strings and number literals untouched. */
export function compactJson(text: string): string {
  let out = '';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      i = skipString(text, i) - 1;
    } else if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      out += text.slice(start, i);
      start = i + 1;
    }
  }
  return out + text.slice(start);
}

function skipWs(text: string, i: number): number {
  while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  return i;
}

/** `i` is at the opening quote; returns the index after the closing quote. */
function skipString(text: string, i: number): number {
  for (i++; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') i++;
    else if (c === '"') return i + 1;
  }
  return i;
}

function skipValue(text: string, i: number): number {
  const c = text[i];
  if (c === '"') return skipString(text, i);
  if (c === '{' || c === '[') {
    let depth = 0;
    for (; i < text.length; i++) {
      const d = text[i];
      if (d === '"') i = skipString(text, i) - 1;
      else if (d === '{' || d === '[') depth++;
      else if (d === '}' || d === ']') {
        depth--;
        if (depth === 0) return i + 1;
      }
    }
    return i;
  }
  while (i < text.length && !',}] \t\n\r'.includes(text[i] as string)) i++;
  return i;
}
