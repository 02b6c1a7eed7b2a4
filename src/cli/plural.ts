/** Counted nouns in messages: `1 device`, `2 devices`, `1 IOMMU group`, `3 bridges`. */
export function plural(count: number, noun: string, pluralForm = /(s|sh|ch|x|z)$/.test(noun) ? `${noun}es` : `${noun}s`): string {
  return `${count} ${count === 1 ? noun : pluralForm}`;
}
