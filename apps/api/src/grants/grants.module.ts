import { Module } from '@nestjs/common';
import { PersistenceModule } from '@app/persistence';
import { GrantsController } from './grants.controller';

/** The grants API (DESIGN section 2), over GrantRepository. */
@Module({ imports: [PersistenceModule], controllers: [GrantsController] })
export class GrantsModule {}
