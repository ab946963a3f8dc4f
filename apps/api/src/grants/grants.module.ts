import { Module } from '@nestjs/common';
import { PersistenceModule } from '@app/persistence';
import { GrantsController } from './grants.controller';
import { GrantsService } from './grants.service';

/** The grants API (DESIGN section 2), over GrantRepository. */
@Module({ imports: [PersistenceModule], controllers: [GrantsController], providers: [GrantsService] })
export class GrantsModule {}
