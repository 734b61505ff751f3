/** Placeholder: this page is being built (issue 11). */
import type { PageProps } from '../registry';

export default function Page(_props: PageProps) {
  return <h1>case</h1>;
}
