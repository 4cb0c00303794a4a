const line = 'x'.repeat(1000) + '\n';
while (true) process.stdout.write(line);
