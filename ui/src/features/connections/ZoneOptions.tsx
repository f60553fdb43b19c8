// The time zones a connection or a schedule offers, grouped, each with its current UTC offset.
import { useTranslation } from 'react-i18next';

import { timeZoneOffsetLabel } from '../../format';
import { ALL_TIME_ZONES, TIME_ZONES } from './model';

/** "America/Sao Paulo (GMT-3)"; UTC, and a zone whose offset is unknown, by name only. */
export function tzLabel(zone: string): string {
  const offset = timeZoneOffsetLabel(zone);
  const name = zone.replace(/_/g, ' ');
  return offset && zone !== 'UTC' ? `${name} (${offset})` : name;
}

/** The `<option>`s of a time-zone `<select>`: `current` first when it is not one offered. */
export function ZoneOptions({ current }: { current: string }) {
  const { t } = useTranslation();
  const extra = current && !ALL_TIME_ZONES.includes(current) ? current : null;
  return (
    <>
      {extra ? <option value={extra}>{tzLabel(extra)}</option> : null}
      {TIME_ZONES.map((g) => (
        <optgroup key={g.group} label={t(`form.${g.group}`)}>
          {g.zones.map((z) => (
            <option key={z} value={z}>
              {tzLabel(z)}
            </option>
          ))}
        </optgroup>
      ))}
    </>
  );
}
