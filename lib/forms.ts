// Reading submitted forms: a text field's value, or "" when the field is missing or holds a file.
export function formText(form: FormData, name: string): string {
  const v = form.get(name);
  return typeof v === "string" ? v : "";
}
