import { Transform } from 'class-transformer';

/** `?severity=HIGH,CRITICAL` or repeated `?severity=HIGH&severity=CRITICAL` → ['HIGH', 'CRITICAL']. */
export const CommaList = () =>
  Transform(({ value }: { value: unknown }) => {
    if (value === undefined || value === '') return undefined;
    const items = (Array.isArray(value) ? value : [value]).flatMap((v) => String(v).split(','));
    return items.map((v) => v.trim()).filter((v) => v.length > 0);
  });
