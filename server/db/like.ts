// Search patterns for LIKE: what the person typed, matched anywhere, with LIKE's wildcards taken literally.
export const containsPattern = (q: string) => `%${q.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
