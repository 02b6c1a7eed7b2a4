/**
 * The errno values an IOAS operation can fail with: the one table of names, Linux numbers and
 * what each means for an IOAS. Everything else refers to errors by name.
 */

export const ERRNOS = {
  EPERM: { code: 1, meaning: 'not permitted: the device may not leave its firmware-required identity mapping (before 6.5, Intel)' },
  ENOENT: { code: 2, meaning: 'no mapping there, or the range cuts a mapping in two' },
  EFAULT: { code: 14, meaning: 'bad address: the pages cannot be pinned (VM_PFNMAP / VM_IO), or the IOMMU cannot address the IOVA (Intel, before 5.4)' },
  EEXIST: { code: 17, meaning: 'the range is already mapped' },
  EINVAL: { code: 22, meaning: 'invalid request: zero, misaligned, reserved or outside the valid IOVA ranges' },
  ENOTTY: { code: 25, meaning: 'the ioctl does not exist in this kernel' },
  ENOSPC: { code: 28, meaning: 'no room: no free block fits, or the mapping-entry limit is reached' },
  EOVERFLOW: { code: 75, meaning: 'a value or range runs past what 64 bits can hold' },
  EMSGSIZE: { code: 90, meaning: "the caller's buffer is too small for the answer" },
  EADDRINUSE: { code: 98, meaning: 'a new reservation or allowed range collides with one in use' },
} as const;

export type ErrnoName = keyof typeof ERRNOS;

/** The value the ioctl returns: `-22` for EINVAL. */
export function errnoCode(name: ErrnoName): number {
  return -ERRNOS[name].code;
}
