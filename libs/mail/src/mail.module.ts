import { Global, Module } from '@nestjs/common';
import { MailRepository } from './mail.repository';

@Global()
@Module({ providers: [MailRepository], exports: [MailRepository] })
export class MailModule {}
