// Names people type or that arrive as folder names (classes, projects): stored in NFC, refused
// when they hold characters that do not show or that reorder what is shown (NUL and other
// controls, bidi overrides such as U+202E, zero-width joiners and spaces), and compared for
// duplicates without regard to case or width, so "HSIL", "hsil" and full-width "ＨＳＩＬ" are one name.

/** Controls, format characters (bidi, zero-width, soft hyphen), line/paragraph separators, private use, surrogates. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cs}]/u;

export const NAME_MAX_LENGTH = 120;

/** Why `raw` cannot be a name, or null. Check `normaliseName(raw)`. */
export function nameProblem(name: string): string | null {
  if (name.length === 0) return 'a name cannot be empty';
  if (name.length > NAME_MAX_LENGTH) return `a name is at most ${NAME_MAX_LENGTH} characters`;
  const bad = INVISIBLE.exec(name);
  if (bad) {
    const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    return `a name cannot hold invisible or control characters (U+${code})`;
  }
  return null;
}

/** The stored form: NFC, without surrounding white space. */
export const normaliseName = (raw: string): string => raw.normalize('NFC').trim();

/** Two names are duplicates when their keys are equal: compatibility-normalised (width), lower case. */
export const nameKey = (name: string): string => name.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
