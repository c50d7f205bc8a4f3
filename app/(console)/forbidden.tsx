// What `forbidden()` answers (HTTP 403) inside the console, e.g. a viewer opening /admin.
import { Forbidden } from "@/components/console/Forbidden";

export default function ConsoleForbidden() {
  return <Forbidden />;
}
