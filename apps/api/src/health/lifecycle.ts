import { Injectable } from '@nestjs/common';

/** Process lifecycle flags: readiness turns 503 as soon as shutdown begins. */
@Injectable()
export class Lifecycle {
  shuttingDown = false;
}
