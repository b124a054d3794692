import {
  useId,
  type InputHTMLAttributes,
  type ReactNode,
  type SelectHTMLAttributes,
  type TextareaHTMLAttributes,
} from 'react';

interface FrameProps {
  label: string;
  /** Messages about this field: read out with it (aria-describedby) and marked invalid. */
  errors?: string[] | undefined;
  hint?: ReactNode;
}

/** Label, hint and errors of one control, tied to it so a screen reader says them with the field. */
function useFrame({ label, errors, hint }: FrameProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const described = [hint ? hintId : null, errors?.length ? errorId : null].filter(Boolean).join(' ');
  const control = {
    id,
    'aria-invalid': errors?.length ? (true as const) : undefined,
    'aria-describedby': described || undefined,
  };
  const frame = (input: ReactNode) => (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {hint ? (
        <p id={hintId} className="hint">
          {hint}
        </p>
      ) : null}
      {input}
      {errors?.length ? (
        <p id={errorId} className="error">
          <span aria-hidden="true">⚠ </span>
          {errors.join(' ')}
        </p>
      ) : null}
    </div>
  );
  return { control, frame };
}

export function Field({
  label,
  errors,
  hint,
  ...input
}: FrameProps & Omit<InputHTMLAttributes<HTMLInputElement>, 'id'>) {
  const { control, frame } = useFrame({ label, errors, hint });
  return frame(<input {...input} {...control} />);
}

export function TextArea({
  label,
  errors,
  hint,
  ...input
}: FrameProps & Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, 'id'>) {
  const { control, frame } = useFrame({ label, errors, hint });
  return frame(<textarea rows={6} {...input} {...control} />);
}

export function Select({
  label,
  errors,
  hint,
  options,
  ...input
}: FrameProps &
  Omit<SelectHTMLAttributes<HTMLSelectElement>, 'id'> & { options: readonly (readonly [string, string])[] }) {
  const { control, frame } = useFrame({ label, errors, hint });
  return frame(
    <select {...input} {...control}>
      {options.map(([value, text]) => (
        <option key={value} value={value}>
          {text}
        </option>
      ))}
    </select>,
  );
}

/** A message about the whole form (or page), announced when it appears. */
export function Alert({ children, tone = 'error' }: { children: ReactNode; tone?: 'error' | 'success' }) {
  return (
    <div role={tone === 'error' ? 'alert' : 'status'} className={`alert ${tone}`}>
      <strong>{tone === 'error' ? 'Problem: ' : 'Done: '}</strong>
      {children}
    </div>
  );
}
