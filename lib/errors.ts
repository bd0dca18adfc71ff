/**
 * Bad input is reported once, on one line, naming the file, the line and the field, and the CLI
 * exits with code 2 for it. Every loader and validator throws `InputError` for that purpose.
 */
export class InputError extends Error {
  readonly file: string;
  readonly line: number | undefined;
  readonly field: string | undefined;
  readonly detail: string;

  constructor(file: string, line: number | undefined, field: string | undefined, detail: string) {
    const where = line === undefined ? file : `${file}:${line}`;
    const what = field === undefined ? detail : `field "${field}": ${detail}`;
    super(`${where}: ${what}`);
    this.name = 'InputError';
    this.file = file;
    this.line = line;
    this.field = field;
    this.detail = detail;
  }
}

/** A command used wrongly (unknown option value, missing argument): also exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
