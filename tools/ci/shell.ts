/**
 * Just enough of bash's grammar to read the commands of a workflow's `run:` step: the simple
 * commands it runs (also inside `$(...)`, backticks, `if`/`for`/`while` bodies, `&&`/`||`/`|`
 * chains and `\` line continuations), each as its words, with every word split into literal text,
 * variable expansions, GitHub `${{ }}` expressions and what only the run knows (command
 * substitutions, arithmetic, parameter operators). Heredoc bodies and redirection targets are not
 * words of a command. Anything it cannot read is kept as "dynamic", never guessed.
 */

/** One piece of a shell word. */
export type WordPart =
  /** Literal text (`quoted`: it came from inside quotes, so `NAME=` in it is no assignment). */
  | { readonly kind: "text"; readonly text: string; readonly quoted: boolean }
  /** `$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME-default}`; positional parameters `$1`, `${10}` too. */
  | { readonly kind: "var"; readonly name: string }
  /** A GitHub Actions expression `${{ ... }}`, as `${{ <expression> }}` with single spaces. */
  | { readonly kind: "expr"; readonly text: string }
  /** What only the run knows: `$(...)`, backticks, `$((...))`, `$@`, `$?`, `${X#...}`, `${X[@]}`. */
  | { readonly kind: "dynamic"; readonly text: string };

export type Word = readonly WordPart[];

/** A simple command: its leading assignments (`NAME=value cmd`, or alone), its words and its source text. */
export interface ShellCommand {
  readonly assignments: readonly { readonly name: string; readonly value: Word }[];
  readonly words: readonly Word[];
  /** The command as written, on one line (continuations joined, spaces collapsed). */
  readonly text: string;
}

/** Normalises a `${{ expr }}` to single spaces, so two spellings of one expression compare equal. */
export function normaliseExpression(inner: string): string {
  return `\${{ ${inner.trim().replace(/\s+/g, " ")} }}`;
}

/** Splits a GitHub template (an `env:` or `with:` value) into text and `${{ }}` expressions. */
export function templateParts(value: string): WordPart[] {
  const parts: WordPart[] = [];
  let rest = value;
  for (;;) {
    const i = rest.indexOf("${{");
    const j = i < 0 ? -1 : rest.indexOf("}}", i + 3);
    if (i < 0 || j < 0) {
      if (rest) parts.push({ kind: "text", text: rest, quoted: true });
      return parts;
    }
    if (i > 0) parts.push({ kind: "text", text: rest.slice(0, i), quoted: true });
    parts.push({ kind: "expr", text: normaliseExpression(rest.slice(i + 3, j)) });
    rest = rest.slice(j + 2);
  }
}

/** Reserved words that lead to a command in a compound one (`if x; then cmd; fi`). */
const LEADING = new Set(["if", "then", "elif", "else", "do", "while", "until", "!", "time", "{"]);
const OPERATOR = new Set([";", "&", "|", "(", ")", "\n"]);
const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** The commands of a bash script, in the order they appear (a substitution's before the command holding it). */
export function parseShell(script: string): ShellCommand[] {
  const out: ShellCommand[] = [];
  const s = script;
  let i = 0;
  let words: { word: Word; start: number; end: number }[] = [];
  const heredocs: { delimiter: string; strip: boolean }[] = [];

  const flush = () => {
    if (words.length === 0) return;
    // The text shown starts at the command itself, after the keywords that lead to it (then, do...).
    const shown =
      words.find(
        (w) => !(w.word.length === 1 && w.word[0].kind === "text" && !w.word[0].quoted && LEADING.has(w.word[0].text)),
      ) ?? words[0];
    const text = s
      .slice(shown.start, words[words.length - 1].end)
      .replace(/\\\n/g, " ")
      .replace(/\s+/g, " ")
      .trim();
    const assignments: { name: string; value: Word }[] = [];
    let k = 0;
    for (; k < words.length; k++) {
      const first = words[k].word[0];
      const m = first?.kind === "text" && !first.quoted ? /^([A-Za-z_][A-Za-z0-9_]*)\+?=/.exec(first.text) : null;
      if (!m) break;
      const value: WordPart[] = [];
      const restText = first.kind === "text" ? first.text.slice(m[0].length) : "";
      if (restText) value.push({ kind: "text", text: restText, quoted: false });
      value.push(...words[k].word.slice(1));
      assignments.push({ name: m[1], value });
    }
    out.push({ assignments, words: words.slice(k).map((w) => w.word), text });
    words = [];
  };

  /** Skips heredoc bodies that start after the newline at i-1. */
  const skipHeredocs = () => {
    while (heredocs.length) {
      const h = heredocs.shift()!;
      for (;;) {
        if (i >= s.length) return;
        const nl = s.indexOf("\n", i);
        const line = s.slice(i, nl < 0 ? s.length : nl);
        i = nl < 0 ? s.length : nl + 1;
        if ((h.strip ? line.replace(/^\t+/, "") : line) === h.delimiter) break;
      }
    }
  };

  /** The index after the bracket that closes the one opened before `from` (quotes and nesting respected). */
  const closing = (from: string, open: string, close: string, start: number): number => {
    let depth = 1;
    let j = start;
    while (j < from.length) {
      const c = from[j];
      if (c === "\\") j += 2;
      else if (c === "'") j = from.indexOf("'", j + 1) < 0 ? from.length : from.indexOf("'", j + 1) + 1;
      else if (c === '"') {
        j++;
        while (j < from.length && from[j] !== '"') j += from[j] === "\\" ? 2 : 1;
        j++;
      } else {
        if (c === open) depth++;
        else if (c === close && --depth === 0) return j + 1;
        j++;
      }
    }
    return from.length;
  };

  /** Reads a `$...` expansion at i (s[i] === "$"); pushes its part. */
  const dollar = (parts: WordPart[]) => {
    const rest = s.slice(i);
    if (rest.startsWith("${{")) {
      const j = s.indexOf("}}", i + 3);
      const end = j < 0 ? s.length : j + 2;
      parts.push({ kind: "expr", text: normaliseExpression(s.slice(i + 3, j < 0 ? s.length : j)) });
      i = end;
    } else if (rest.startsWith("$((")) {
      const end = closing(s, "(", ")", i + 2);
      parts.push({ kind: "dynamic", text: s.slice(i, end) });
      i = end;
    } else if (rest.startsWith("$(")) {
      const end = closing(s, "(", ")", i + 2);
      out.push(...parseShell(s.slice(i + 2, end - 1)));
      parts.push({ kind: "dynamic", text: s.slice(i, end) });
      i = end;
    } else if (rest.startsWith("${")) {
      const end = closing(s, "{", "}", i + 2);
      const inner = s.slice(i + 2, end - 1);
      // ${NAME} and ${NAME:-default}: the variable (a default only applies when it is unset, which
      // the file cannot tell); any other operator (#, %, /, :+, [@]) makes a value only the run knows.
      const m = /^([A-Za-z_][A-Za-z0-9_]*|[0-9]+)(?::?-.*)?$/s.exec(inner);
      if (m) parts.push({ kind: "var", name: m[1] });
      else parts.push({ kind: "dynamic", text: s.slice(i, end) });
      i = end;
    } else if (NAME.test(rest.slice(1))) {
      const name = NAME.exec(rest.slice(1))![0];
      parts.push({ kind: "var", name });
      i += 1 + name.length;
    } else if (/^\$[0-9]/.test(rest)) {
      parts.push({ kind: "var", name: rest[1] });
      i += 2;
    } else if (/^\$[@*#?$!-]/.test(rest)) {
      parts.push({ kind: "dynamic", text: rest.slice(0, 2) });
      i += 2;
    } else if (rest.startsWith("$'")) {
      let j = i + 2;
      let text = "";
      while (j < s.length && s[j] !== "'") {
        if (s[j] === "\\") {
          const c = s[j + 1];
          text += c === "n" ? "\n" : c === "t" ? "\t" : c;
          j += 2;
        } else text += s[j++];
      }
      parts.push({ kind: "text", text, quoted: true });
      i = j + 1;
    } else {
      parts.push({ kind: "text", text: "$", quoted: false });
      i++;
    }
  };

  const backtick = (parts: WordPart[]) => {
    let j = i + 1;
    while (j < s.length && s[j] !== "`") j += s[j] === "\\" ? 2 : 1;
    out.push(...parseShell(s.slice(i + 1, j)));
    parts.push({ kind: "dynamic", text: s.slice(i, j + 1) });
    i = j + 1;
  };

  const readWord = (): Word => {
    const parts: WordPart[] = [];
    const text = (t: string, quoted: boolean) => {
      const last = parts[parts.length - 1];
      if (last?.kind === "text" && last.quoted === quoted) parts[parts.length - 1] = { ...last, text: last.text + t };
      else parts.push({ kind: "text", text: t, quoted });
    };
    while (i < s.length) {
      const c = s[i];
      if (c === " " || c === "\t" || OPERATOR.has(c) || c === "<" || c === ">") break;
      if (c === "\\") {
        if (s[i + 1] !== "\n") text(s[i + 1] ?? "", true);
        i += 2;
      } else if (c === "'") {
        const j = s.indexOf("'", i + 1);
        text(s.slice(i + 1, j < 0 ? s.length : j), true);
        i = j < 0 ? s.length : j + 1;
      } else if (c === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === "\\" && '$`"\\\n'.includes(s[i + 1])) {
            if (s[i + 1] !== "\n") text(s[i + 1], true);
            i += 2;
          } else if (s[i] === "$") dollar(parts);
          else if (s[i] === "`") backtick(parts);
          else text(s[i++], true);
        }
        i++;
        if (parts.length === 0) text("", true);
      } else if (c === "$") dollar(parts);
      else if (c === "`") backtick(parts);
      else text(s[i++], false);
    }
    return parts;
  };

  while (i < s.length) {
    const c = s[i];
    if (c === " " || c === "\t" || c === "\r") i++;
    else if (c === "\\" && s[i + 1] === "\n") i += 2;
    else if (c === "#" && (i === 0 || /[\s;&|()]/.test(s[i - 1]))) {
      while (i < s.length && s[i] !== "\n") i++;
    } else if (c === "\n") {
      flush();
      i++;
      skipHeredocs();
    } else if (OPERATOR.has(c)) {
      flush();
      i++;
    } else if (c === "<" || c === ">" || (/[0-9]/.test(c) && /^[0-9]+[<>]/.test(s.slice(i)))) {
      // A redirection: its operator and its target are not words of the command.
      const m = /^[0-9]*(<<<|<<-|<<|<>|>>|>&|<&|&>|>\||<|>)/.exec(s.slice(i))!;
      i += m[0].length;
      if (m[1] === "<" && s[i] === "(") {
        // Process substitution <(...): its commands run too.
        const end = closing(s, "(", ")", i + 1);
        out.push(...parseShell(s.slice(i + 1, end - 1)));
        i = end;
        continue;
      }
      while (s[i] === " " || s[i] === "\t") i++;
      const target = readWord();
      if (m[1] === "<<" || m[1] === "<<-")
        heredocs.push({
          delimiter: target.map((p) => (p.kind === "text" ? p.text : "")).join(""),
          strip: m[1] === "<<-",
        });
    } else {
      const start = i;
      const word = readWord();
      if (i === start) i++;
      else words.push({ word, start, end: i });
    }
  }
  flush();
  return out;
}
