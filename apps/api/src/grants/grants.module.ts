import { Module } from '@nestjs/common';
import { GrantsController } from './grants.controller';
import { GrantsService } from './grants.service';

/** The grants API (DESIGN section 2). GrantRepository comes from the global PersistenceModule. */
@Module({ controllers: [GrantsController], providers: [GrantsService] })
export class GrantsModule {}
