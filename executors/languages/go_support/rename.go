// Command rename gives each program's package-level names a suffix of its own, so that several HumanEvalPack
// programs can be compiled (and vetted) as the files of ONE package: compiling and vetting a package has a fixed
// cost (a process, the imports' export data) far above a small program's own.
//
//	rename EXPORTS DIR
//
// EXPORTS holds "import/path=export-data-file" lines. For every DIR/NNN.go, DIR/NNN.renamed receives the program
// with each use and declaration of its package-level names followed by "__pNNN" (nothing else moves: line and
// column numbers stay), or DIR/NNN.refused the reason the program cannot share a package. A program is renamed
// only when it type-checks alone (under the reference module's language version), so every name is resolved
// exactly as the compiler resolves it.
package main

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

const languageVersion = "go1.18" // the reference module's `go` line

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: rename EXPORTS DIR")
		os.Exit(2)
	}
	exports, err := readExports(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fset := token.NewFileSet()
	imports := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		if file, ok := exports[path]; ok {
			return os.Open(file)
		}
		return nil, fmt.Errorf("no export data for %q", path)
	})
	programs, err := filepath.Glob(filepath.Join(os.Args[2], "*.go"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, program := range programs {
		stem := strings.TrimSuffix(program, ".go")
		renamed, refusal := rename(fset, imports, program, "__p"+filepath.Base(stem))
		if refusal != "" {
			err = os.WriteFile(stem+".refused", []byte(refusal), 0o644)
		} else {
			err = os.WriteFile(stem+".renamed", renamed, 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

func readExports(path string) (map[string]string, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	exports := map[string]string{}
	lines := bufio.NewScanner(file)
	for lines.Scan() {
		if importPath, exportFile, ok := strings.Cut(lines.Text(), "="); ok {
			exports[importPath] = exportFile
		}
	}
	return exports, lines.Err()
}

// initialisedVariable names a package-level variable with an initial value: its package would get
// initialisation code, which runs in the process of every program linked with it.
func initialisedVariable(file *ast.File) string {
	for _, declaration := range file.Decls {
		if general, ok := declaration.(*ast.GenDecl); ok && general.Tok == token.VAR {
			for _, spec := range general.Specs {
				if values := spec.(*ast.ValueSpec); len(values.Values) > 0 {
					return "package-level variable with an initial value: " + values.Names[0].Name
				}
			}
		}
	}
	return ""
}

// rename returns the renamed source, or "" and the reason it is refused.
func rename(fset *token.FileSet, imports types.Importer, path, suffix string) ([]byte, string) {
	source, err := os.ReadFile(path)
	if err != nil {
		return nil, err.Error()
	}
	file, err := parser.ParseFile(fset, path, source, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, "does not parse: " + err.Error()
	}
	info := &types.Info{Defs: map[*ast.Ident]types.Object{}, Uses: map[*ast.Ident]types.Object{}}
	config := types.Config{Importer: imports, GoVersion: languageVersion}
	pkg, err := config.Check("main", fset, []*ast.File{file}, info)
	if err != nil {
		return nil, "does not type-check alone: " + err.Error()
	}
	if refusal := initialisedVariable(file); refusal != "" {
		return nil, refusal
	}
	var ends []int
	refusal := ""
	ast.Inspect(file, func(node ast.Node) bool {
		ident, ok := node.(*ast.Ident)
		if !ok || refusal != "" {
			return refusal == ""
		}
		if strings.Contains(ident.Name, "__p") {
			refusal = "a name could collide with a renamed one: " + ident.Name
			return false
		}
		defined, used := info.Defs[ident], info.Uses[ident]
		if field, ok := defined.(*types.Var); ok && field.Embedded() {
			// The type's name is the field's name: renaming one renames the other's selectors.
			refusal = "embedded field " + ident.Name
			return false
		}
		object := defined
		if object == nil {
			object = used
		}
		if object != nil && object.Parent() == pkg.Scope() && object.Name() != "_" {
			ends = append(ends, fset.Position(ident.End()).Offset)
		}
		return true
	})
	if refusal != "" {
		return nil, refusal
	}
	sort.Ints(ends)
	var renamed strings.Builder
	last := 0
	for _, end := range ends {
		renamed.Write(source[last:end])
		renamed.WriteString(suffix)
		last = end
	}
	renamed.Write(source[last:])
	return []byte(renamed.String()), ""
}
