/**
 * Splits one CSV line (RFC 4180 quoting: "a,b" and "" escapes). Datasets here are plain, but a
 * labels file written by a spreadsheet may quote cells.
 */
export function splitCsvLine(line: string): string[] {
  if (line.indexOf('"') < 0) return line.split(',');
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"') {
        if (line[i + 1] === '"') {
          cur += '"';
          i++;
        } else quoted = false;
      } else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** Strips a UTF-8 byte-order mark and a trailing CR. */
export function cleanLine(line: string, first: boolean): string {
  let s = first && line.charCodeAt(0) === 0xfeff ? line.slice(1) : line;
  if (s.endsWith('\r')) s = s.slice(0, -1);
  return s;
}
